CREATE FUNCTION drop_any(t text) RETURNS void AS $$
BEGIN
  EXECUTE 'DROP TABLE ' || t;
END;
$$ LANGUAGE plpgsql;