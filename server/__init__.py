"""The served application: one ASGI app composing the JSON API (`api`) and the pages (`web`) over one runtime."""
