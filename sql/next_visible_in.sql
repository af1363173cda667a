-- Seconds until the earliest message of these queues becomes visible (a retry's delayed
-- message, or one a dead worker held), or NULL when they hold none: an idle worker sleeps
-- that long, or until a NOTIFY, and never polls an empty queue. A paused namespace's queue
-- is left out (its worker waits for resume's NOTIFY instead of spinning on visible messages).
-- Why the queue table and not pgmq: pgmq has no such query (pgmq.metrics scans more and
-- counts; min(vt) uses the queue's vt index).
CREATE OR REPLACE FUNCTION tasker.next_visible_in(p_queues text[]) RETURNS double precision
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_queue text;
    v_at timestamptz;
    v_min timestamptz;
BEGIN
    FOREACH v_queue IN ARRAY p_queues LOOP
        CONTINUE WHEN NOT tasker.valid_queue_name(v_queue);
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pgmq.meta WHERE queue_name = v_queue);
        CONTINUE WHEN tasker.queue_paused(v_queue);
        EXECUTE format('SELECT min(vt) FROM pgmq.%I', 'q_' || v_queue) INTO v_at;
        IF v_at IS NOT NULL AND (v_min IS NULL OR v_at < v_min) THEN
            v_min := v_at;
        END IF;
    END LOOP;
    IF v_min IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN GREATEST(extract(epoch FROM v_min - clock_timestamp()), 0);
END;
$$;
