-- tasker-core baseline: the tables and indexes, as sixteen earlier migrations left them.
-- Tables and indexes only: every function lives in its own file under sql/, re-applied by
-- migrate! after the migrations. A database migrated before this baseline existed is
-- recognised by migrate! and gets this file recorded as applied (src/store/migrate.rs).
--
-- The current state lives on each row; the transitions tables are append-only history.

CREATE SCHEMA IF NOT EXISTS tasker;

CREATE TABLE tasker.namespaces (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,40}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The template registry.
CREATE TABLE tasker.named_tasks (
    named_task_id bigserial PRIMARY KEY,
    namespace     text NOT NULL REFERENCES tasker.namespaces (name),
    name          text NOT NULL,
    version       text NOT NULL,
    template      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (namespace, name, version)
);

CREATE TABLE tasker.tasks (
    task_uuid       uuid PRIMARY KEY,
    named_task_id   bigint NOT NULL REFERENCES tasker.named_tasks (named_task_id),
    namespace       text NOT NULL,
    name            text NOT NULL,
    version         text NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN
                      ('pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually')),
    context         jsonb NOT NULL DEFAULT '{}'::jsonb,
    initiator       text,
    source_system   text,
    reason          text,
    tags            text[] NOT NULL DEFAULT '{}',
    priority        integer NOT NULL DEFAULT 0,
    idempotency_key text UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    completed_at    timestamptz
);

-- Only unfinished tasks are ever scanned by the sweep: keep that index small.
CREATE INDEX tasks_active_idx ON tasker.tasks (created_at)
    WHERE state IN ('pending', 'in_progress');
CREATE INDEX tasks_named_created_idx ON tasker.tasks (namespace, name, created_at DESC);
-- Paging of the task lists (dashboard, CLI): all tasks, and the failed ones.
CREATE INDEX tasks_created_idx ON tasker.tasks (created_at, task_uuid);
CREATE INDEX tasks_error_created_idx ON tasker.tasks (created_at, task_uuid) WHERE state = 'error';

-- No index names `state`: every state change of a step is then a HOT update (with the room
-- fillfactor leaves on each page), which is most of what a step costs the database
-- (docs/performance.md). Active steps are found through the active tasks.
CREATE TABLE tasker.workflow_steps (
    step_uuid            uuid PRIMARY KEY,
    task_uuid            uuid NOT NULL REFERENCES tasker.tasks (task_uuid) ON DELETE CASCADE,
    name                 text NOT NULL,
    position             integer NOT NULL,
    handler              text NOT NULL,
    config               jsonb NOT NULL DEFAULT '{}'::jsonb,
    state                text NOT NULL DEFAULT 'pending' CHECK (state IN
                           ('pending', 'enqueued', 'in_progress', 'complete', 'waiting_for_retry',
                            'error', 'cancelled', 'resolved_manually')),
    attempts             integer NOT NULL DEFAULT 0,
    max_attempts         integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    retryable            boolean NOT NULL DEFAULT true,
    backoff_base_seconds double precision NOT NULL DEFAULT 1,
    max_backoff_seconds  double precision NOT NULL DEFAULT 300,
    backoff_until        timestamptz,
    timeout_seconds      integer NOT NULL DEFAULT 30 CHECK (timeout_seconds >= 1),
    results              jsonb,
    last_error           jsonb,
    enqueued_at          timestamptz,
    started_at           timestamptz,
    completed_at         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The step's parents and all its ancestors by name, in template order, written when the
    -- task is created (a task's DAG never changes): the claim reads the ancestors' results
    -- with one lookup.
    depends_on           text[] NOT NULL DEFAULT '{}',
    ancestors            text[] NOT NULL DEFAULT '{}',
    UNIQUE (task_uuid, name)
) WITH (fillfactor = 80);

-- The DAG, per task. No foreign keys: the edges are written in the statement that writes
-- their steps and never change, and each key would cost a row lock per edge and column.
CREATE TABLE tasker.workflow_step_edges (
    task_uuid  uuid NOT NULL,
    from_step  uuid NOT NULL,
    to_step    uuid NOT NULL,
    PRIMARY KEY (from_step, to_step),
    CHECK (from_step <> to_step)
);
CREATE INDEX workflow_step_edges_to_idx ON tasker.workflow_step_edges (to_step);

-- Append-only audit. No foreign keys either (a row lock per insert): rows are only inserted
-- for existing tasks and steps, by the writers that change them.
CREATE TABLE tasker.task_transitions (
    id          bigserial PRIMARY KEY,
    task_uuid   uuid NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    reason      text,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX task_transitions_task_idx ON tasker.task_transitions (task_uuid, id);

CREATE TABLE tasker.step_transitions (
    id          bigserial PRIMARY KEY,
    step_uuid   uuid NOT NULL,
    task_uuid   uuid NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    attempt     integer NOT NULL DEFAULT 0,
    reason      text,
    metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX step_transitions_step_idx ON tasker.step_transitions (step_uuid, id);
CREATE INDEX step_transitions_task_idx ON tasker.step_transitions (task_uuid);
