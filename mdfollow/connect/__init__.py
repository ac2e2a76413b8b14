"""Connectors to other tools: contact import (later mail, drafts, CalDAV). Imports core and store."""
