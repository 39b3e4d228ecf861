-- The number of tasks a person sees under one unit (their subtree's root), with one of the
-- list's filters ({filter}, on the scope row's columns, see bench/floors.py), plus the tasks
-- they lead that their subtree does not hold. Parameters: unit, user, and the filter's.
SELECT
    (SELECT count(*)
     FROM tasks_taskscope s
     WHERE s.unit_id = %(unit)s
       AND (s.issuing OR s.state <> 'draft')
       {filter})
  + (SELECT count(*)
     FROM tasks_task t
     JOIN tasks_taskscope s ON s.task_id = t.id AND s.unit_id = t.issuing_unit_id
     WHERE t.lead_leader_id = %(user)s
       {filter}
       AND NOT EXISTS (
           SELECT 1 FROM tasks_taskscope seen
           WHERE seen.task_id = t.id AND seen.unit_id = %(unit)s AND (seen.issuing OR seen.state <> 'draft')
       ))
