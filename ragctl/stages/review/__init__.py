"""review: a registered version's answers go to domain experts, and what they say becomes evidence.

start.py: the version answers the questions (one trace each, linked to its LoggedModel and tagged with the
version) and a review queue named for the version holds the traces with ragctl's questions. status.py:
progress per reviewer, agreement between reviewers, and agreement of the automatic scorers with them.
The records (queue, schemas, answers) live in records/reviews/.
"""
