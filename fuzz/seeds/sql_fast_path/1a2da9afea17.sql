DO $$ BEGIN
 ALTER TABLE "posts" ALTER COLUMN "views" TYPE smallint;
EXCEPTION
 WHEN others THEN null;
END $$;