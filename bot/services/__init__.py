"""Use cases: one async function per thing a person does, plus the ports they need."""
