DROP INDEX sessions_first_at;
DROP INDEX messages_api_error;
