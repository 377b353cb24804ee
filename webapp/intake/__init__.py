"""Taking requests in from outside: an e-mail saved as .eml read into what a backlog item needs."""
