-- The queue-name rule, in the database: only a name that matches is ever quoted into a
-- statement. The pattern is filled in by migrate! from the one rule in Rust
-- (src/messaging/queue.rs, QUEUE_NAME_PATTERN), which Ruby reads as TaskerCore::QUEUE_NAME.
CREATE OR REPLACE FUNCTION tasker.valid_queue_name(p_queue text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_queue ~ '{{QUEUE_NAME_PATTERN}}'
$$;
