-- auth-service starts with no tables of its own: the outbox and processed_messages
-- tables come from comanda_outbox::MIGRATIONS, which run before this source.
-- This migration anchors the service's migration history; domain tables follow it.
SELECT 1;
