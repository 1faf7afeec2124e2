-- Appending to the audit log in one statement (appendAuditEvent, libs/db/src/audit.ts). Writers
-- of every process take turns on a transaction-level advisory lock, read the latest hash only
-- once they hold it, and insert the event linked to it. The caller computes the event's
-- canonical JSON; the event's hash is sha256 of the previous hash followed by that text, exactly
-- as auditEventHash computes it. One round trip, and the lock held for one statement, where the
-- transaction this replaces took five. The lock's key is the one that transaction took
-- (0x53504155, 'SPAU'), so that replicas of either version take turns during an upgrade.
CREATE FUNCTION "append_audit_event"(
    p_at TIMESTAMPTZ,
    p_actor_id UUID,
    p_actor_name TEXT,
    p_action TEXT,
    p_target_type TEXT,
    p_target_id TEXT,
    p_server_id UUID,
    p_session_id UUID,
    p_ip TEXT,
    p_details JSONB,
    p_canonical TEXT
) RETURNS SETOF "audit_events"
LANGUAGE plpgsql AS $$
DECLARE
    v_prev_hash TEXT;
BEGIN
    -- Held until this transaction (the caller's one statement) commits with the event in it.
    PERFORM pg_advisory_xact_lock(1397768533);
    SELECT e."hash" INTO v_prev_hash FROM "audit_events" e ORDER BY e."seq" DESC LIMIT 1;
    v_prev_hash := coalesce(v_prev_hash, '');
    RETURN QUERY
    INSERT INTO "audit_events" (
        "at", "actor_id", "actor_name", "action", "target_type", "target_id", "server_id",
        "session_id", "ip", "details", "prev_hash", "hash"
    ) VALUES (
        p_at, p_actor_id, p_actor_name, p_action, p_target_type, p_target_id, p_server_id,
        p_session_id, p_ip, p_details, v_prev_hash,
        encode(sha256(convert_to(v_prev_hash || p_canonical, 'UTF8')), 'hex')
    )
    RETURNING *;
END
$$;
