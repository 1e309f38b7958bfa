"""Retention: the daily job that prunes what has served its purpose (storage/retention.py)
at a quiet hour, once a day however many workers run it."""

from bot.core.feature import Feature
from bot.features.retention import job

FEATURE = Feature(name="retention", jobs=(job.RetentionJob(),))
