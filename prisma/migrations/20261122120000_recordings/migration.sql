-- CreateTable
CREATE TABLE "recordings" (
    "id" UUID NOT NULL,
    "session_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "server_id" UUID,
    "server_name" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'recording',
    "mode" TEXT NOT NULL,
    "records_input" BOOLEAN NOT NULL,
    "key_id" TEXT NOT NULL,
    "cols" INTEGER NOT NULL,
    "rows" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "duration_ms" INTEGER NOT NULL DEFAULT 0,
    "size_bytes" BIGINT NOT NULL DEFAULT 0,
    "chunks" INTEGER NOT NULL DEFAULT 0,
    "last_tag" TEXT,
    "resume" JSONB,
    "gaps" INTEGER NOT NULL DEFAULT 0,
    "digest" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recordings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recording_policies" (
    "scope" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "mode" TEXT NOT NULL DEFAULT 'best_effort',
    "record_input" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "recording_policies_pkey" PRIMARY KEY ("scope")
);

-- CreateIndex
CREATE UNIQUE INDEX "recordings_session_id_key" ON "recordings"("session_id");

-- CreateIndex
CREATE INDEX "recordings_user_id_started_at_idx" ON "recordings"("user_id", "started_at");

-- CreateIndex
CREATE INDEX "recordings_started_at_idx" ON "recordings"("started_at");

-- CreateIndex
CREATE INDEX "recordings_status_idx" ON "recordings"("status");

-- AddForeignKey
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "terminal_sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
