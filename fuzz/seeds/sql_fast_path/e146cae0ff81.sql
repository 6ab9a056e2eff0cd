DO $$ BEGIN -- DROP TABLE users
  RAISE NOTICE 'drop nothing'; END $$;