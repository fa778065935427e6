// GENERATED from schemas/*.schema.json by scripts/dev/gen-types.mjs — do not edit.
// test/schemas/types-drift.test.ts fails when this file and the schemas disagree.

/**
 * Who did something: a builder id, or a named person/agent (letters, digits, '.', '_', '-').
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "ActorId".
 */
export type ActorId = string;
/**
 * ISO-8601 UTC instant written by build-coord: seconds precision, optional milliseconds, always 'Z'.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "Timestamp".
 */
export type Timestamp = string;
/**
 * A timestamp (see timestamp) or null.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "NullableTimestamp".
 */
export type NullableTimestamp = string | null;
/**
 * A record id: globally unique, never derived from a count (time + builder + random).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "RecordId".
 */
export type RecordId = string;
/**
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "JobStatus".
 */
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'blocked';
/**
 * A builder id or null.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "NullableBuilderId".
 */
export type NullableBuilderId = string | null;
/**
 * A builder identity: build<N>, N >= 1 (DESIGN.md section 2).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "BuilderId".
 */
export type BuilderId = string;
/**
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "BuilderState".
 */
export type BuilderState = 'idle' | 'building' | 'grounded' | 'draining' | 'offline';
/**
 * A portable environment variable name.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "EnvName".
 */
export type EnvName = string;

export interface CoordSchemas {
  JobsFile?: JobsFile;
  LocksFile?: LocksFile;
  MessagesFile?: MessagesFile;
  SchedulesFile?: SchedulesFile;
  ArchiveFile?: ArchiveFile;
  StatusFile?: StatusFile;
  HeartbeatFile?: HeartbeatFile;
  ArtifactsFile?: ArtifactsFile;
  HealthDashboardFile?: HealthDashboardFile;
  BuildConfigFile?: BuildConfigFile;
}
/**
 * The job queue. Changed only by transactions (DESIGN.md sections 3-4).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "JobsFile".
 */
export interface JobsFile {
  $schema: string;
  /**
   * Fleet-wide pause of claiming; null when claiming is allowed.
   */
  paused?: {
    by: ActorId;
    at: Timestamp;
    reason?: string;
  } | null;
  /**
   * Builders grounded (circuit breaker, DESIGN.md section 4): they claim nothing until ungrounded or `until` passes.
   */
  grounded?: {
    [k: string]: {
      by: ActorId;
      at: Timestamp;
      reason: string;
      until?: NullableTimestamp;
    };
  };
  jobs: Job[];
}
/**
 * One job of the queue (DESIGN.md section 4). A job names a type; it never carries a command.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "Job".
 */
export interface Job {
  id: RecordId;
  type: string;
  /**
   * 1 runs first
   */
  priority: number;
  description?: string;
  branch?: string | null;
  commit?: string | null;
  params?: StringMap;
  requires?: JobRequires;
  status: JobStatus;
  assigned_to?: NullableBuilderId;
  attempt?: number;
  max_attempts?: number;
  lease_expires_at?: NullableTimestamp;
  cancel_requested?: boolean;
  not_before?: NullableTimestamp;
  created_at: Timestamp;
  created_by?: ActorId;
  started_at?: NullableTimestamp;
  completed_at?: NullableTimestamp;
  exit_code?: number | null;
  error?: string | null;
  failed_on?: BuilderId[];
  history?: AttemptRecord[];
  artifacts?: ArtifactRef[];
  log?: string | null;
  schedule_id?: string | null;
  command?: never;
  cmd?: never;
  script?: never;
}
/**
 * String-to-string map whose keys are environment variable names.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "StringMap".
 */
export interface StringMap {
  [k: string]: string;
}
/**
 * What a builder must offer to claim the job.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "JobRequires".
 */
export interface JobRequires {
  arch?: string;
  labels?: string[];
}
/**
 * One entry per claim of a job (one attempt).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "AttemptRecord".
 */
export interface AttemptRecord {
  attempt: number;
  builder: BuilderId;
  claimed_at: Timestamp;
  ended_at?: NullableTimestamp;
  status:
    'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'lease_lost' | 'requeued';
  exit_code?: number | null;
  duration_seconds?: number | null;
  error?: string | null;
}
/**
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "ArtifactRef".
 */
export interface ArtifactRef {
  name: string;
  /**
   * bytes
   */
  size: number;
  sha256: string;
}
/**
 * Named leases (DESIGN.md section 6). Renew and release only with the holder's token.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "LocksFile".
 */
export interface LocksFile {
  $schema: string;
  locks: {
    [k: string]: {
      locked_by: ActorId;
      locked_at: Timestamp;
      expires_at: Timestamp;
      renewed_at?: Timestamp;
      /**
       * lease time in seconds
       */
      ttl_s?: number;
      token: string;
      reason?: string;
    };
  };
}
/**
 * Messages between builders, people and agents (DESIGN.md section 7).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "MessagesFile".
 */
export interface MessagesFile {
  $schema: string;
  messages: Message[];
}
/**
 * One message between builders (DESIGN.md section 7). Read and ack are per recipient.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "Message".
 */
export interface Message {
  id: RecordId;
  from: ActorId;
  /**
   * 'all', one recipient, or a list of recipients.
   *
   * @minItems 1
   */
  to: string | [ActorId, ...ActorId[]];
  type: 'info' | 'warning' | 'error' | 'request';
  priority: 'low' | 'normal' | 'high' | 'urgent';
  subject: string;
  body: string;
  timestamp: Timestamp;
  ack_required?: boolean;
  read_by: ActorId[];
  acked_by: ActorId[];
  in_reply_to?: string | null;
  tags?: string[];
  /**
   * sent by an automatic responder (loop guard)
   */
  auto?: boolean;
}
/**
 * Recurring jobs: a cron expression and a job template (DESIGN.md section 4).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "SchedulesFile".
 */
export interface SchedulesFile {
  $schema: string;
  schedules: {
    id: string;
    /**
     * five-field cron expression, evaluated in UTC
     */
    cron: string;
    enabled?: boolean;
    job: {
      type: string;
      priority?: number;
      description?: string;
      branch?: string | null;
      commit?: string | null;
      params?: StringMap;
      requires?: JobRequires;
      max_attempts?: number;
      command?: never;
    };
    created_at?: Timestamp;
    created_by?: ActorId;
    last_slot?: NullableTimestamp;
  }[];
}
/**
 * Finished jobs or old messages of one month, moved out of the hot files by retention.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "ArchiveFile".
 */
export interface ArchiveFile {
  $schema: string;
  kind: 'jobs' | 'messages';
  month: string;
  records: unknown[];
}
/**
 * A builder's state, written only by that builder (DESIGN.md section 5).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "StatusFile".
 */
export interface StatusFile {
  $schema: string;
  builder: BuilderId;
  state: BuilderState;
  updated_at: Timestamp;
  /**
   * id of the first running job, or null
   */
  current_job?: string | null;
  running_jobs?: {
    id: string;
    type?: string;
    attempt: number;
    started_at?: Timestamp;
  }[];
  /**
   * Upstream field names kept.
   */
  last_build?: {
    id: string;
    status: string;
    completed_at?: NullableTimestamp;
    duration_seconds?: number | null;
  } | null;
  grounded?: {
    since: Timestamp;
    reason: string;
    until?: NullableTimestamp;
    by?: ActorId;
  } | null;
  degraded?: {
    since: Timestamp;
    reason: string;
  } | null;
  consecutive_failures?: number;
  capabilities?: {
    arch?: string;
    cores?: number;
    memory_mb?: number;
    labels?: string[];
    platform?: string;
    node?: string;
  };
  system?: SystemFigures;
  daemon?: {
    pid?: number;
    version?: string;
    started_at?: Timestamp;
    /**
     * hostname of the machine the daemon runs on; with pid, lets a restarted daemon know an earlier run on this machine is dead
     */
    host?: string;
  } | null;
}
/**
 * System figures from systeminformation at the time of a heartbeat.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "SystemFigures".
 */
export interface SystemFigures {
  cpu_percent?: number | null;
  memory_used_mb?: number | null;
  memory_total_mb?: number | null;
  disk_free_mb?: number | null;
  uptime_s?: number | null;
}
/**
 * A builder's liveness snapshot. Also the content of refs/coord/heartbeats/build<N> (DESIGN.md section 5).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "HeartbeatFile".
 */
export interface HeartbeatFile {
  $schema: string;
  builder: BuilderId;
  timestamp: Timestamp;
  /**
   * increases by one per beat; observers judge liveness by its change, not by clocks
   */
  sequence?: number;
  state?: BuilderState;
  current_job?: string | null;
  interval_s?: number;
  system?: SystemFigures;
}
/**
 * Artifact manifest. The files stay on the builder; only name, size and sha256 are in git.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "ArtifactsFile".
 */
export interface ArtifactsFile {
  $schema: string;
  artifacts: {
    job_id: RecordId;
    attempt?: number;
    builder: BuilderId;
    name: string;
    /**
     * absolute path on the builder
     */
    path?: string;
    /**
     * bytes
     */
    size: number;
    sha256: string;
    created_at: Timestamp;
  }[];
}
/**
 * Derived fleet summary, written by daemons and `coord dashboard`; committed only when its content (timestamps aside) changes.
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "HealthDashboardFile".
 */
export interface HealthDashboardFile {
  $schema: string;
  generated_at: Timestamp;
  builders: {
    [k: string]: {
      health: 'healthy' | 'stale' | 'offline' | 'grounded' | 'degraded' | 'unknown';
      state?: string | null;
      current_job?: string | null;
      last_heartbeat?: NullableTimestamp;
      cpu_percent?: number | null;
      memory_percent?: number | null;
      disk_free_mb?: number | null;
      reason?: string | null;
    };
  };
  queue: {
    [k: string]: number;
  };
  locks_held?: number;
  unread_messages?: number;
}
/**
 * Builders, job types, policy and trust. Fields beyond these are kept and ignored (DESIGN.md section 1).
 *
 * This interface was referenced by `CoordSchemas`'s JSON-Schema
 * via the `definition` "BuildConfigFile".
 */
export interface BuildConfigFile {
  $schema: string;
  builders: {
    [k: string]: {
      arch?: string;
      labels?: string[];
      max_concurrent_jobs?: number;
      max_cpu_percent?: number;
      max_memory_percent?: number;
      ssh?: {
        /**
         * hostname or address (DESIGN.md section 8); no options, no shell syntax
         */
        host: string;
        /**
         * ssh port; default 22
         */
        port?: number;
        /**
         * login name; default: ssh's own (the current user or ~/.ssh/config)
         */
        user?: string;
        /**
         * absolute path of the builder's clone; letters, digits, '.', '_', '-', '/' only (it becomes an argument of a fixed remote command)
         */
        repo_path: string;
        /**
         * private key for ssh -i; '~' is expanded by ssh, a relative path is taken from the repository root
         */
        identity_file?: string;
        /**
         * known_hosts file to check the builder's host key against (default: ssh's own; the environment variable COORD_SSH_KNOWN_HOSTS overrides it)
         */
        known_hosts_file?: string;
        /**
         * strict (default): the host key must already be in known_hosts; accept-new: record the key on first contact, refuse a changed one. Never off.
         */
        host_key_policy?: 'strict' | 'accept-new';
        /**
         * seconds ssh waits for the connection (ConnectTimeout); default 10
         */
        connect_timeout_s?: number;
      };
    };
  };
  job_types?: {
    [k: string]: {
      /**
       * argument array; never run through a shell
       *
       * @minItems 1
       */
      command: [string, ...string[]];
      timeout_s?: number;
      artifacts?: string[];
      source_repo?: string;
      allowed_builders?: BuilderId[];
      env?: StringMap;
      description?: string;
    };
  };
  policy?: {
    heartbeat_interval_s?: number;
    main_heartbeat_every_s?: number;
    lease_ttl_s?: number;
    max_attempts?: number;
    ground_after_failures?: number;
    ground_cooldown_s?: number;
    drain_timeout_s?: number;
    clock_skew_s?: number;
    job_retention_days?: number;
    message_retention_days?: number;
    transaction_attempts?: number;
    log_tail_bytes?: number;
  };
  /**
   * Who may act besides the configured builders.
   */
  trust?: {
    senders?: ActorId[];
  };
}
