"""Staff tools (issue 7): who may see what (scope), multi-step chat dialogs, periodic jobs."""
