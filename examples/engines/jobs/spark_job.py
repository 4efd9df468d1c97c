"""A PySpark job: scores the points in argv[1] with the model in argv[2] (JSON: a, b of
y = a*x + b) and writes a one-row report (count, mean absolute error) as JSON to argv[3].

It runs in the engines' own Python (see docs/engines.md): it imports pyspark, never aiflow_lite.
"""

import json
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

points, model_path, report = sys.argv[1:4]
with open(model_path) as fh:
    model = json.load(fh)
spark = SparkSession.builder.getOrCreate()
df = spark.read.csv(points, schema="x DOUBLE, y DOUBLE")
scored = df.withColumn("error", F.abs(F.col("y") - (F.col("x") * model["a"] + model["b"])))
summary = scored.agg(F.count("*").alias("count"), F.avg("error").alias("mean_abs_error"))
summary.coalesce(1).write.mode("overwrite").json(report)
print(summary.collect()[0].asDict())
spark.stop()
