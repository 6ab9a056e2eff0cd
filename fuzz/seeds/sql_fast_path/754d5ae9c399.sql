CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  n int;
BEGIN
  SELECT count(*) INTO n FROM users;
  IF n > 1000 THEN
    DELETE FROM users WHERE last_login < now() - interval '1 year';
  END IF;
END $$;