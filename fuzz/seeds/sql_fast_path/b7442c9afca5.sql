CREATE OR REPLACE FUNCTION purge(days int) RETURNS void AS $$
BEGIN
  DELETE FROM events WHERE created_at < now() - make_interval(days => days);
END;
$$ LANGUAGE plpgsql;