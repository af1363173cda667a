-- Pause and resume per namespace (TaskerCore.pause / resume): a row here means no worker
-- claims that namespace's steps (each queue's claim function looks here first, see
-- sql/install_queue_functions.sql and sql/queue_paused.sql). Steps already claimed finish.
CREATE TABLE tasker.paused_namespaces (
    namespace text PRIMARY KEY,
    paused_by text,
    reason    text,
    paused_at timestamptz NOT NULL DEFAULT now()
);

-- Who paused or resumed which namespace, when and why: the history the dashboard and the CLI
-- record their actor in (append-only).
CREATE TABLE tasker.namespace_controls (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace  text NOT NULL,
    action     text NOT NULL CHECK (action IN ('pause', 'resume')),
    actor      text,
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX namespace_controls_namespace_idx ON tasker.namespace_controls (namespace, created_at);
