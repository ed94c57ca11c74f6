"""The system sender: the one way a message leaves Replyline, exactly once per draft."""
