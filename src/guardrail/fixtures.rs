//! `railyard test`: each guardrail's fixtures. (being written)
