// Runs in every jest worker before the tests: git must never read the machine's own
// configuration, prompt for credentials, or depend on the local time zone (STYLE.md).
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_SYSTEM = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';
process.env.GIT_TERMINAL_PROMPT = '0';
process.env.GIT_AUTHOR_NAME = 'coord test';
process.env.GIT_AUTHOR_EMAIL = 'test@coord.invalid';
process.env.GIT_COMMITTER_NAME = 'coord test';
process.env.GIT_COMMITTER_EMAIL = 'test@coord.invalid';
process.env.TZ = 'UTC';
process.env.NO_COLOR = '1';
delete process.env.GIT_DIR;
delete process.env.GIT_WORK_TREE;
delete process.env.GIT_INDEX_FILE;
delete process.env.COORD_REPO;
delete process.env.COORD_BUILDER;
delete process.env.SERVER_ID;
