DO $$ BEGIN
 CREATE TYPE "public"."status" AS ENUM('draft', 'live');
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;