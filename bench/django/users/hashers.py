"""Django's argon2 hasher with our parameters instead of its defaults
(m=102400 KiB, p=8): argon2id, m=19456 KiB (19 MiB), t=2, p=1, 32-byte
output, as shared/src/auth/passwords.rs hashes. Same parameters also mean
Django never rehashes a password on login."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
