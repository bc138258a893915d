-- +goose Up
-- The search lane sends one Meilisearch task for a whole claimed batch of outbox rows:
-- a task is tracked once per row it carries, so its failure reopens every one of them.
ALTER TABLE search_tasks DROP CONSTRAINT search_tasks_pkey, ADD PRIMARY KEY (task_uid, outbox_id);

-- +goose Down
DELETE FROM search_tasks a USING search_tasks b WHERE a.task_uid = b.task_uid AND a.outbox_id > b.outbox_id;
ALTER TABLE search_tasks DROP CONSTRAINT search_tasks_pkey, ADD PRIMARY KEY (task_uid);
