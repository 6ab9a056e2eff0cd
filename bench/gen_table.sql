-- 5 million rows, about 750 MB on disk: the benchmark table for bench/snapshot_bench.sh.
CREATE TABLE big (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL,
    email text NOT NULL,
    status text NOT NULL,
    amount numeric(14, 2) NOT NULL,
    note text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz
);
INSERT INTO big
SELECT g,
       g % 100000,
       'user' || g || '@example.com',
       (ARRAY['new', 'paid', 'shipped', 'refunded'])[1 + g % 4],
       (g % 100000) / 100.0,
       CASE WHEN g % 5 = 0 THEN NULL ELSE md5(g::text) || ' ' || md5((g * 7)::text) END,
       '2020-01-01'::timestamptz + g * interval '13 seconds',
       CASE WHEN g % 3 = 0 THEN NULL ELSE '2021-01-01'::timestamptz + g * interval '7 seconds' END
FROM generate_series(1, 5000000) g;
VACUUM ANALYZE big;
