"""The client side: commands that run on developer machines and CI runners and talk to a tracker over HTTP.

Standard library only (a test proves it): these start on every `git commit` and in every CI job.
"""
