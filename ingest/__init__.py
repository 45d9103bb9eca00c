"""Documents → normalized text → article units → keyword index (+ optional vectors)."""
