// The public surface of @sallyport/db. Other packages import only from here, never from
// ./generated (which is produced by `prisma generate` and not committed).

export { openDatabase } from './client.js';
export type { Database, DatabaseOptions, DatabaseTarget } from './client.js';

export { applyMigrations, findMigrationsDir, migrationChecksum } from './migrate.js';
export type { MigrationExecutor, MigrationLog, MigrationResult } from './migrate.js';
export { pgExecutor, pgliteExecutor } from './executors.js';

export { appendAuditEvent, verifyAuditChain } from './audit.js';
export type { AppendAuditOptions, AuditChainVerdict, AuditEventInput } from './audit.js';

// Prisma's namespace carries the error classes (Prisma.PrismaClientKnownRequestError) and
// input types (Prisma.UserCreateInput) callers need; PrismaClient is exported as a type only,
// since clients are made by openDatabase.
export { Prisma } from './generated/prisma/client.js';
export type {
  AuditEvent,
  KnownHost,
  LoginSession,
  PrismaClient,
  Server,
  SessionInvite,
  SessionParticipant,
  SetupToken,
  Share,
  TerminalSession,
  User,
} from './generated/prisma/client.js';
