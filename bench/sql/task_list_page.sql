-- One page of the same tasks in due-date order, with every column the API's list shows:
-- the task, its campaign, issuing and lead units, lead leader and responsible person, its
-- unit links and its indicators (as JSON arrays). Parameters: unit, user, page_end (the
-- page's last row, counted from the first page), size, offset, and the filter's.
WITH page AS (
    SELECT task_id, due_date FROM (
        (SELECT s.task_id, s.due_date
         FROM tasks_taskscope s
         WHERE s.unit_id = %(unit)s
           AND (s.issuing OR s.state <> 'draft')
           {filter}
         ORDER BY s.due_date, s.task_id
         LIMIT %(page_end)s)
        UNION ALL
        (SELECT s.task_id, s.due_date
         FROM tasks_task t
         JOIN tasks_taskscope s ON s.task_id = t.id AND s.unit_id = t.issuing_unit_id
         WHERE t.lead_leader_id = %(user)s
           {filter}
           AND NOT EXISTS (
               SELECT 1 FROM tasks_taskscope seen
               WHERE seen.task_id = t.id AND seen.unit_id = %(unit)s AND (seen.issuing OR seen.state <> 'draft')
           )
         ORDER BY s.due_date, s.task_id
         LIMIT %(page_end)s)
    ) branches
    ORDER BY due_date, task_id
    LIMIT %(size)s OFFSET %(offset)s
)
SELECT
    t.id, t.number, t.title, t.description, t.kind, t.state, t.parent_id, t.responsibility_id,
    t.due_date, t.original_due_date, t.reopen_count, t.escalation_rank,
    t.assigned_at, t.submitted_at, t.closed_at, t.created_at, t.updated_at,
    t.submitted_on, t.next_obligation_date, t.next_warned_date, t.ongoing,
    c.id AS campaign_id, c.name AS campaign_name, c.yellow_working_days,
    iu.id AS issuing_id, iu.name AS issuing_name, iu.kind AS issuing_kind,
    lu.id AS lead_id, lu.name AS lead_name, lu.kind AS lead_kind,
    ll.id AS leader_id, ll.full_name AS leader_name, ll.title AS leader_title,
    rp.id AS person_id, rp.full_name AS person_name, rp.title AS person_title,
    (SELECT coalesce(json_agg(json_build_object('id', u.id, 'name', u.name, 'kind', u.kind, 'role', tu.role)
                              ORDER BY tu.id), '[]')
     FROM tasks_taskunit tu JOIN responsibility_unit u ON u.id = tu.unit_id
     WHERE tu.task_id = t.id) AS units,
    (SELECT coalesce(json_agg(json_build_object(
                'id', i.id, 'parent', i.parent_id, 'name', i.name, 'unit_of_measure', i.unit_of_measure,
                'comparison', i.comparison, 'target', i.target, 'current_value', i.current_value,
                'veto', i.veto) ORDER BY i.id), '[]')
     FROM tasks_indicator i
     WHERE i.task_id = t.id) AS indicators
FROM page
JOIN tasks_task t ON t.id = page.task_id
JOIN tasks_campaign c ON c.id = t.campaign_id
JOIN responsibility_unit iu ON iu.id = t.issuing_unit_id
JOIN responsibility_unit lu ON lu.id = t.lead_unit_id
LEFT JOIN responsibility_user ll ON ll.id = t.lead_leader_id
LEFT JOIN responsibility_user rp ON rp.id = t.responsible_person_id
ORDER BY page.due_date, page.task_id
