DO $body$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM users;
  RAISE NOTICE 'rows: %', n;
END
$body$ LANGUAGE plpgsql;