"""Web-search verification of a dream's ideas (CODREAMER_VERIFY): one Tavily search per idea."""

from verification.check import IdeaCheck, search_limiter, verify_idea
from verification.search import close_search_clients

__all__ = ["IdeaCheck", "close_search_clients", "search_limiter", "verify_idea"]
