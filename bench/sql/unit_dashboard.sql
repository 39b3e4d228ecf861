-- A unit's dashboard: the unit and each unit one level below it, with its issued tasks
-- counted by light (red and yellow as bench/floors.py writes them), closed, closed on time (the day of the
-- submission verified, else the office's day of closing, in Asia/Shanghai; 长期坚持 work always), suspended,
-- cancelled, all, and overdue. Parameters: unit, today,
-- yellow_until (the last due date that shows yellow).
SELECT u.id, u.name, u.kind,
    count(s.task_id) FILTER (WHERE {red}) AS red,
    count(s.task_id) FILTER (WHERE s.state IN {open} AND NOT {red} AND {warned}) AS yellow,
    count(s.task_id) FILTER (WHERE s.state IN {open} AND NOT {red} AND NOT {warned}) AS green,
    count(s.task_id) FILTER (WHERE s.state = 'closed') AS closed,
    count(s.task_id) FILTER (WHERE s.state = 'closed'
                               AND (s.ongoing
                                    OR coalesce(s.submitted_on, (s.closed_at AT TIME ZONE 'Asia/Shanghai')::date)
                                       <= s.due_date)) AS closed_on_time,
    count(s.task_id) FILTER (WHERE s.state = 'suspended') AS suspended,
    count(s.task_id) FILTER (WHERE s.state = 'cancelled') AS cancelled,
    count(s.task_id) AS total
FROM responsibility_unit u
LEFT JOIN tasks_taskscope s ON s.unit_id = u.id AND s.state <> 'draft'
WHERE u.id = %(unit)s OR u.parent_id = %(unit)s
GROUP BY u.id
ORDER BY u.path
