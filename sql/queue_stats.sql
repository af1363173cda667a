-- Per queue (every pgmq queue whose name is valid): depth, messages visible now, delayed (a
-- retry's backoff, not yet read), in flight (read, hidden by a worker or the orchestrator),
-- the highest read count, the oldest message's age in seconds, and the archived messages.
-- The status views of the CLI and the dashboard read it (TaskerCore::StatusQueries).
-- Why the queue tables: pgmq.metrics counts depth and age, but not visible, delayed and in
-- flight apart, nor the archive.
CREATE OR REPLACE FUNCTION tasker.queue_stats()
RETURNS TABLE (queue_name text, depth bigint, visible bigint, delayed bigint, in_flight bigint,
               max_read_ct integer, oldest_age_seconds numeric, archived bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_queue text;
BEGIN
    FOR v_queue IN SELECT m.queue_name FROM pgmq.meta m ORDER BY m.queue_name LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(v_queue);
        RETURN QUERY EXECUTE format(
            'SELECT $1, count(*), count(*) FILTER (WHERE vt <= clock_timestamp()),
                    count(*) FILTER (WHERE vt > clock_timestamp() AND read_ct = 0),
                    count(*) FILTER (WHERE vt > clock_timestamp() AND read_ct > 0),
                    max(read_ct),
                    round(extract(epoch FROM clock_timestamp() - min(enqueued_at))::numeric, 1),
                    (SELECT count(*) FROM pgmq.%I)
               FROM pgmq.%I', 'a_' || v_queue, 'q_' || v_queue)
        USING v_queue;
    END LOOP;
END;
$$;
