-- MySQL schema of the traffic tables (documentation for the DATA team; the processor's
-- storage adapter is a dummy today). One table per visit type; visit_id is the
-- idempotency key, so a redelivered message never makes a second row.
--
-- A reused visit_id: the last write wins, the same as on Cassandra. The processor writes
--   INSERT INTO `traffic_type_in` (`visit_id`, `created_at`, `ip`) VALUES (?, ?, ?), ...
--     AS `new` ON DUPLICATE KEY UPDATE `created_at` = `new`.`created_at`, `ip` = `new`.`ip`
-- (row alias: MySQL 8.0.19 or later), never carries one visit_id twice in a statement, and logs
-- a warning (ids only) when a visit_id comes back with different content.
CREATE DATABASE IF NOT EXISTS traffic CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;
USE traffic;

CREATE TABLE IF NOT EXISTS `traffic_type_in` (
  `visit_id`   VARCHAR(128) NOT NULL COMMENT 'agent-stamped id, or the SQS MessageId for legacy messages',
  `created_at` BIGINT       NOT NULL COMMENT 'epoch milliseconds, stamped by the agent',
  `ip`         VARCHAR(45)      NULL COMMENT 'IPv4 or IPv6 source address',
  PRIMARY KEY (`visit_id`),
  KEY `idx_created_at` (`created_at`)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS `traffic_referrer` (
  `visit_id`   VARCHAR(128)  NOT NULL COMMENT 'agent-stamped id, or the SQS MessageId for legacy messages',
  `created_at` BIGINT        NOT NULL COMMENT 'epoch milliseconds, stamped by the agent',
  `url`        VARCHAR(2048)     NULL COMMENT 'http(s) URL or bare host of the referring page',
  PRIMARY KEY (`visit_id`),
  KEY `idx_created_at` (`created_at`)
) ENGINE = InnoDB;
