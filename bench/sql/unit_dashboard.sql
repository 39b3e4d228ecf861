-- A unit's dashboard: the unit and each unit one level below it, with its issued tasks
-- counted by light, closed, closed on or before the due date (the office's day, in
-- Asia/Shanghai), suspended, cancelled, all, and overdue. Parameters: unit, today,
-- yellow_until (the last due date that shows yellow).
SELECT u.id, u.name, u.kind,
    count(s.task_id) FILTER (WHERE s.state IN ('assigned', 'in_progress', 'submitted') AND s.due_date < %(today)s) AS red,
    count(s.task_id) FILTER (WHERE s.state IN ('assigned', 'in_progress', 'submitted')
                               AND s.due_date BETWEEN %(today)s AND %(yellow_until)s) AS yellow,
    count(s.task_id) FILTER (WHERE s.state IN ('assigned', 'in_progress', 'submitted') AND s.due_date > %(yellow_until)s) AS green,
    count(s.task_id) FILTER (WHERE s.state = 'closed') AS closed,
    count(s.task_id) FILTER (WHERE s.state = 'closed'
                               AND (s.closed_at AT TIME ZONE 'Asia/Shanghai')::date <= s.due_date) AS closed_on_time,
    count(s.task_id) FILTER (WHERE s.state = 'suspended') AS suspended,
    count(s.task_id) FILTER (WHERE s.state = 'cancelled') AS cancelled,
    count(s.task_id) AS total
FROM responsibility_unit u
LEFT JOIN tasks_taskscope s ON s.unit_id = u.id AND s.state <> 'draft'
WHERE u.id = %(unit)s OR u.parent_id = %(unit)s
GROUP BY u.id
ORDER BY u.path
