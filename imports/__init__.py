"""Reading task-decomposition tables (任务分解表) into plain rows, before anything is saved."""
