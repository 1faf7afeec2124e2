import pg from 'pg';

/** What a failing database looks like to one kind of write: an error, for every row it matches. */
export interface RefusedWrite {
  name: string;
  table: string;
  event: 'INSERT' | 'UPDATE';
  /** A condition on NEW, e.g. `NEW.status = 'active'`. */
  when: string;
}

/** Anything that runs SQL, such as a Prisma client's $executeRawUnsafe. */
type Execute = (sql: string) => Promise<unknown>;

/**
 * Makes the database refuse the write with a trigger; resolves with a function that takes the
 * trigger away. For tests of what a service does when a write it depends on fails. Given a
 * database URL, it connects for the trigger's lifetime.
 */
export async function refuseWrites(
  database: string | Execute,
  { name, table, event, when }: RefusedWrite,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  if (typeof database === 'string') {
    client = new pg.Client({ connectionString: database });
    await client.connect();
  }
  const execute = client ? (sql: string) => client.query(sql) : (database as Execute);
  try {
    await execute(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql
      AS $$ BEGIN RAISE EXCEPTION 'the database refused the write (${name})'; END $$`);
    await execute(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table}
      FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}()`);
  } catch (err) {
    await client?.end();
    throw err;
  }
  return async () => {
    try {
      await execute(`DROP TRIGGER IF EXISTS ${name} ON ${table}`);
      await execute(`DROP FUNCTION IF EXISTS ${name}()`);
    } finally {
      await client?.end();
    }
  };
}
