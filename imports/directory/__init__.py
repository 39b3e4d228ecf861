"""The directory (通讯录): units, people and their roles, kept by offices as one spreadsheet,
imported with a dry run, all or nothing, and exported back in the same shape."""
