#!/usr/bin/env python3
"""Writes a benign JavaScript bundle of about SIZE bytes (default 5 MB): the shapes a
bundled server has (modules in closures, Map/Set use, streams, regexes, JSON, HTTP routing
by method name, `delete obj[k]`), none of them destructive to a database. With
--destructive, one raw TRUNCATE is appended (a strong marker: the file is parsed).

usage: bench/gen_bundle.py OUT [SIZE] [--destructive]"""
import sys

out = sys.argv[1]
size = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 5 * 1024 * 1024
parts = ['"use strict";\nvar __modules = {};\n']
n = 0
total = len(parts[0])
while total < size:
    chunk = f"""__modules[{n}] = function (module, exports, require) {{
  const cache{n} = new Map();
  const seen{n} = new Set();
  function get{n}(key, fallback) {{
    if (cache{n}.has(key)) return cache{n}.get(key);
    const value = typeof fallback === "function" ? fallback(key) : fallback;
    cache{n}.set(key, value);
    return value;
  }}
  function evict{n}(key) {{ cache{n}.delete(key); seen{n}.delete(key); }}
  function route{n}(req, res) {{
    const m = /^\\/api\\/v1\\/items\\/(\\d+)$/.exec(req.url);
    if (req.method === "DELETE" && m) {{ evict{n}(m[1]); res.statusCode = 204; return res.end(); }}
    const body = JSON.stringify({{ id: m ? Number(m[1]) : null, query: req.query, n: {n} }});
    res.setHeader("content-type", "application/json");
    res.end(body);
  }}
  function clean{n}(obj) {{ for (const k of Object.keys(obj)) {{ if (obj[k] === undefined) delete obj[k]; }} return obj; }}
  function close{n}(stream) {{ stream.removeAllListeners(); stream.destroy(); }}
  function update{n}(state, patch) {{ return Object.assign({{}}, state, clean{n}(patch)); }}
  exports.get = get{n}; exports.evict = evict{n}; exports.route = route{n}; exports.close = close{n}; exports.update = update{n};
}};
"""
    parts.append(chunk)
    total += len(chunk)
    n += 1
parts.append('module.exports = __modules;\n')
if "--destructive" in sys.argv:
    parts.append("require('pg').Pool && new (require('pg').Pool)().query('TRUNCATE sessions');\n")
with open(out, "w") as f:
    f.write("".join(parts))
