-- The orchestrator's read of up to p_qty result messages, made invisible for p_vt seconds:
-- pgmq.read's rows and locking (FOR UPDATE SKIP LOCKED, so several orchestrators share the
-- queue), in static SQL. Why not pgmq.read: it builds its SQL with format() and EXECUTE and so
-- plans it again on every call (0.25 ms of its 0.4 ms, docs/performance.md); this one is
-- planned once per connection.
CREATE OR REPLACE FUNCTION tasker.read_results(p_vt double precision, p_qty integer)
RETURNS TABLE (msg_id bigint, read_ct integer, body text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
BEGIN
    RETURN QUERY
    WITH next AS (
        SELECT q.msg_id FROM pgmq.q_tasker_step_results q
         WHERE q.vt <= clock_timestamp()
         ORDER BY q.msg_id LIMIT p_qty
           FOR UPDATE SKIP LOCKED)
    UPDATE pgmq.q_tasker_step_results m
       SET last_read_at = clock_timestamp(), read_ct = m.read_ct + 1,
           vt = clock_timestamp() + make_interval(secs => p_vt)
      FROM next WHERE m.msg_id = next.msg_id
    RETURNING m.msg_id, m.read_ct, m.message::text;
END;
$$;
