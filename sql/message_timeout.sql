-- The visibility timeout a step message asks for (its step's timeout_seconds, which travels
-- in the message), within sane bounds, or the reader's default for a message without one.
CREATE OR REPLACE FUNCTION tasker.message_timeout(p_message jsonb, p_default integer)
RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p_message->'timeout_seconds') = 'number'
                THEN LEAST(GREATEST((p_message->>'timeout_seconds')::numeric, 1), 604800)::double precision
                ELSE p_default END
$$;
