-- Opening a terminal: writes the session's row only while its user and everyone together are
-- under their limits, and says which (if any) refused it. Opens take turns on a transaction-level
-- advisory lock, and each statement of a PL/pgSQL function counts with a snapshot of its own, so
-- every open sees the rows of the ones before it: concurrent opens cannot pass a limit. One call,
-- one round trip, on the path of every new terminal.
CREATE FUNCTION "open_terminal_session"(
    p_id UUID,
    p_user_id UUID,
    p_server_id UUID,
    p_cols INTEGER,
    p_rows INTEGER,
    p_client_ip TEXT,
    p_max_per_user INTEGER,
    p_max_total INTEGER
) RETURNS TABLE ("server_name" TEXT, "mine" INTEGER, "total" INTEGER, "created" BOOLEAN)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT s."name" INTO server_name FROM "servers" s WHERE s."id" = p_server_id;
    IF NOT FOUND THEN
        mine := 0;
        total := 0;
        created := false;
        RETURN NEXT;
        RETURN;
    END IF;
    -- Held until this transaction (the caller's one statement) commits with the row in it.
    PERFORM pg_advisory_xact_lock(hashtext('sallyport.terminal_session_limits'));
    SELECT count(*) FILTER (WHERE t."user_id" = p_user_id)::int, count(*)::int
        INTO mine, total
        FROM "terminal_sessions" t WHERE t."status" IN ('pending', 'active');
    created := mine < p_max_per_user AND total < p_max_total;
    IF created THEN
        INSERT INTO "terminal_sessions" ("id", "user_id", "server_id", "cols", "rows", "client_ip")
        VALUES (p_id, p_user_id, p_server_id, p_cols, p_rows, p_client_ip);
    END IF;
    RETURN NEXT;
END
$$;
