"""A PyFlink batch job: points (x, y) on the line y = 3x + 2, written as CSV to argv[1].

It runs in the engines' own Python (see docs/engines.md): it imports pyflink, never aiflow_lite.
"""

import sys

from pyflink.table import EnvironmentSettings, TableEnvironment

output = sys.argv[1]
t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
t_env.get_config().set("parallelism.default", "1")
t_env.execute_sql("""
    CREATE TABLE numbers (x INT) WITH (
        'connector' = 'datagen', 'number-of-rows' = '100',
        'fields.x.kind' = 'sequence', 'fields.x.start' = '1', 'fields.x.end' = '100')""")
t_env.execute_sql(f"""
    CREATE TABLE points (x DOUBLE, y DOUBLE) WITH (
        'connector' = 'filesystem', 'path' = '{output}', 'format' = 'csv')""")
t_env.execute_sql("INSERT INTO points SELECT CAST(x AS DOUBLE), 3.0 * x + 2 FROM numbers").wait()
print(f"wrote 100 points to {output}")
