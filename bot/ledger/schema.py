"""Numbered schema migrations. Never edit one that has shipped: add the next."""

MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "m001_initial",
        [
            """CREATE TABLE members (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('volunteer','grid_leader','village_coordinator',
                                                   'township_coordinator','admin')),
                village TEXT NOT NULL DEFAULT '',
                grid TEXT NOT NULL DEFAULT '',
                telegram_id INTEGER UNIQUE,
                phone TEXT NOT NULL DEFAULT '',
                active INTEGER NOT NULL DEFAULT 1,
                created_at TEXT NOT NULL
            )""",
            "CREATE UNIQUE INDEX members_name_village ON members(name, village)",
            """CREATE TABLE households (
                id INTEGER PRIMARY KEY,
                village TEXT NOT NULL,
                grid TEXT NOT NULL DEFAULT '',
                head_name TEXT NOT NULL,
                house_number TEXT NOT NULL DEFAULT '',
                size INTEGER NOT NULL DEFAULT 1,
                phone TEXT NOT NULL DEFAULT '',
                tags TEXT NOT NULL DEFAULT '',
                volunteer_id INTEGER REFERENCES members(id),
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX households_village ON households(village, grid)",
            "CREATE INDEX households_volunteer ON households(volunteer_id)",
            """CREATE TABLE visits (
                id INTEGER PRIMARY KEY,
                household_id INTEGER NOT NULL REFERENCES households(id),
                member_id INTEGER NOT NULL REFERENCES members(id),
                visited_at TEXT NOT NULL,
                method TEXT NOT NULL CHECK (method IN ('入户','电话','线上')),
                situation TEXT NOT NULL DEFAULT '',
                requests TEXT NOT NULL DEFAULT '',
                policies TEXT NOT NULL DEFAULT '',
                location TEXT NOT NULL DEFAULT '',
                photos TEXT NOT NULL DEFAULT '',
                supersedes INTEGER REFERENCES visits(id),
                superseded_by INTEGER REFERENCES visits(id),
                client_key TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX visits_time ON visits(visited_at)",
            "CREATE INDEX visits_member ON visits(member_id, visited_at)",
            "CREATE INDEX visits_household ON visits(household_id, visited_at)",
            """CREATE TABLE problems (
                id INTEGER PRIMARY KEY,
                household_id INTEGER NOT NULL REFERENCES households(id),
                visit_id INTEGER REFERENCES visits(id),
                reporter_id INTEGER NOT NULL REFERENCES members(id),
                category TEXT NOT NULL DEFAULT '',
                description TEXT NOT NULL,
                level TEXT NOT NULL CHECK (level IN ('volunteer','village','township')),
                status TEXT NOT NULL CHECK (status IN ('recorded','solved_on_spot','escalated_village',
                    'escalated_township','resolved','followed_up','closed')),
                deadline TEXT NOT NULL,
                result TEXT NOT NULL DEFAULT '',
                satisfaction TEXT NOT NULL DEFAULT '',
                opened_at TEXT NOT NULL,
                resolved_at TEXT NOT NULL DEFAULT '',
                closed_at TEXT NOT NULL DEFAULT '',
                version INTEGER NOT NULL DEFAULT 1,
                client_key TEXT NOT NULL UNIQUE
            )""",
            "CREATE INDEX problems_status ON problems(status, deadline)",
            "CREATE INDEX problems_opened ON problems(opened_at)",
            """CREATE TABLE problem_events (
                id INTEGER PRIMARY KEY,
                problem_id INTEGER NOT NULL REFERENCES problems(id),
                actor_id INTEGER NOT NULL REFERENCES members(id),
                action TEXT NOT NULL,
                from_status TEXT NOT NULL,
                to_status TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT '',
                at TEXT NOT NULL,
                client_key TEXT NOT NULL UNIQUE
            )""",
            "CREATE INDEX problem_events_at ON problem_events(at, action)",
            """CREATE TABLE invites (
                code TEXT PRIMARY KEY,
                role TEXT NOT NULL,
                village TEXT NOT NULL DEFAULT '',
                grid TEXT NOT NULL DEFAULT '',
                name TEXT NOT NULL DEFAULT '',
                created_by INTEGER REFERENCES members(id),
                created_at TEXT NOT NULL,
                used_by INTEGER REFERENCES members(id),
                used_at TEXT NOT NULL DEFAULT ''
            )""",
            """CREATE TABLE audit (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                actor_id INTEGER,
                entity TEXT NOT NULL,
                entity_id INTEGER NOT NULL,
                action TEXT NOT NULL,
                before TEXT NOT NULL DEFAULT '',
                after TEXT NOT NULL DEFAULT ''
            )""",
        ],
    ),
    (
        "m002_scheduled_runs",
        [
            """CREATE TABLE job_runs (
                job TEXT NOT NULL,
                period TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL DEFAULT '',
                sent INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (job, period)
            )""",
            """CREATE TABLE deliveries (
                job TEXT NOT NULL,
                period TEXT NOT NULL,
                chat_id INTEGER NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (job, period, chat_id)
            )""",
            "CREATE TABLE blocked_chats (chat_id INTEGER PRIMARY KEY, at TEXT NOT NULL)",
        ],
    ),
    (
        # Channel identities (issue #11): who a member is on each messenger. Today's Telegram
        # bindings move here; members.telegram_id stays in the table only because SQLite cannot
        # drop a UNIQUE column: it is emptied here and never read or written again. Blocked
        # chats and deliveries become per channel the same way (ids as text: WeCom's are not
        # numbers). bound_at of a moved binding is the member's created_at, the best we know.
        "m003_channel_identities",
        [
            """CREATE TABLE identities (
                member_id INTEGER NOT NULL REFERENCES members(id),
                channel TEXT NOT NULL,
                external_id TEXT NOT NULL,
                bound_at TEXT NOT NULL,
                UNIQUE (channel, external_id),
                UNIQUE (member_id, channel)
            )""",
            "INSERT INTO identities(member_id, channel, external_id, bound_at) "
            "SELECT id, 'telegram', CAST(telegram_id AS TEXT), created_at FROM members "
            "WHERE telegram_id IS NOT NULL",
            "UPDATE members SET telegram_id = NULL WHERE telegram_id IS NOT NULL",
            """CREATE TABLE blocked_recipients (
                channel TEXT NOT NULL,
                external_id TEXT NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (channel, external_id)
            )""",
            "INSERT INTO blocked_recipients SELECT 'telegram', CAST(chat_id AS TEXT), at "
            "FROM blocked_chats",
            "DROP TABLE blocked_chats",
            """CREATE TABLE channel_deliveries (
                job TEXT NOT NULL,
                period TEXT NOT NULL,
                channel TEXT NOT NULL,
                external_id TEXT NOT NULL,
                at TEXT NOT NULL,
                PRIMARY KEY (job, period, channel, external_id)
            )""",
            "INSERT INTO channel_deliveries SELECT job, period, 'telegram', "
            "CAST(chat_id AS TEXT), at FROM deliveries",
            "DROP TABLE deliveries",
        ],
    ),
]
