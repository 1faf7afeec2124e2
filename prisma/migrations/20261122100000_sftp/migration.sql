-- Per-server SFTP switches and path rules (issue 5). Existing servers keep SFTP available,
-- writable and unconfined, as a new server is by default.

-- AlterTable
ALTER TABLE "servers" ADD COLUMN     "sftp_enabled" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "sftp_read_only" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "sftp_roots" TEXT[] DEFAULT ARRAY[]::TEXT[];
