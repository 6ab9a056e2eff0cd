-- What is left of a dbguard guard of any version, as one JSON object: after
-- `dbguard protect --uninstall` every count is zero (the proof it prints).
SELECT json_build_object(
    'schema', (SELECT count(*) FROM pg_namespace WHERE nspname = 'dbguard'),
    'event_triggers', (SELECT count(*) FROM pg_event_trigger
                       WHERE evtname LIKE 'dbguard\_%'
                          OR evtfoid IN (SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                                         WHERE n.nspname = 'dbguard')),
    'table_triggers', (SELECT count(*) FROM pg_trigger
                       WHERE tgname IN ('dbguard_truncate', 'dbguard_delete', 'dbguard_update')
                          OR tgfoid IN (SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                                        WHERE n.nspname = 'dbguard')),
    'functions', (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'dbguard'),
    'tables', (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'dbguard')
)::text;
