-- Dynamic workflows (docs/handlers-and-templates.md, "Dynamic workflows"): the `skipped` step
-- state, a step's type, and the per-element instances a fan_out step creates.
--   step_type      task, decision or fan_out (the template's `type`)
--   element_of     for an instance: the name of its per-element template (`process_chunk`)
--   element_index  for an instance: its element's position in the fan_out's Array
--   input          for an instance: its element
ALTER TABLE tasker.workflow_steps DROP CONSTRAINT workflow_steps_state_check;
ALTER TABLE tasker.workflow_steps ADD CONSTRAINT workflow_steps_state_check CHECK (state IN
    ('pending', 'enqueued', 'in_progress', 'complete', 'waiting_for_retry', 'error',
     'cancelled', 'resolved_manually', 'skipped'));
ALTER TABLE tasker.workflow_steps
    ADD COLUMN step_type text NOT NULL DEFAULT 'task'
        CHECK (step_type IN ('task', 'decision', 'fan_out')),
    ADD COLUMN element_of text,
    ADD COLUMN element_index integer,
    ADD COLUMN input jsonb;
-- An aggregating step's claim gathers the instances of a template in element order.
CREATE INDEX workflow_steps_elements_idx ON tasker.workflow_steps (task_uuid, element_of, element_index)
    WHERE element_of IS NOT NULL;
