# traffic: the familiar recipes. With Docker they drive LocalStack, Terraform and the AWS CLI
# (docker-compose.yml, Docker Compose v2.20 or later); with LOCAL=1 the same recipes run on this
# machine against the embedded default (`npm start` serves an SQS endpoint on 127.0.0.1, port
# EMBEDDED_SQS_PORT, 4566 by default), no Docker needed:
#
#   make LOCAL=1 start-traffic-processor      # terminal 1
#   make LOCAL=1 create-traffic-type-in       # terminal 2
#   make LOCAL=1 create-traffic-referrer
#   make LOCAL=1 stop                         # stops the processor started above
#
# Under LOCAL=1 every recipe follows EMBEDDED_SQS_PORT, the variable the processor reads, and
# nothing else: AWS_ENDPOINT_URL(_SQS), TRAFFIC_QUEUE_URL and TRAFFIC_DLQ_URL from the shell are
# ignored, so the recipes and the processor they started always meet on the same endpoint.
# `make help` says what each recipe does, with Docker and with LOCAL=1.
#
# Every recipe fails (non-zero) when what it runs fails, and says why. Recipes that run project
# code install node_modules first (npm ci) when it is missing.

.DEFAULT_GOAL := all
.PHONY: all help install docker-ready reset up apply deploy-traffic-agent-lambda agent-url \
        create-traffic-type-in create-traffic-direct create-traffic-referrer start-traffic-processor \
        sqs stop logs queues dlq redrive build-agent

LOCAL ?=
COMPOSE ?= docker compose
DOCKER ?= docker
# The oldest Docker Compose the recipes are written for: `up --wait`, the top-level `name`,
# `run` of a service in a profile, `up --exit-code-from` leaving the dependencies running.
MIN_COMPOSE := 2.20.0
PROFILES := --profile processor --profile tools
TF_DIR := terraform/environments/dev
TF := $(COMPOSE) run --rm terraform
AGENT_FUNCTION := dev-traffic-agent
AGENT_RESPONSE := dist/agent-response.json
TYPE_IN_EVENT := {"queryStringParameters":{"type":"type-in","ip":"127.0.0.1"}}
DIRECT_EVENT := {"queryStringParameters":{"type":"direct","ip":"127.0.0.1"}}
REFERRER_EVENT := {"queryStringParameters":{"type":"referrer","url":"test.com"}}
# The visit the printed curl line sends to the agent's HTTP entry (what traffic.js sends).
TRY_VISIT := {"type":"referrer","url":"https://example.com/"}
# The processor `make LOCAL=1 start-traffic-processor` started, for `make LOCAL=1 stop`.
PROCESSOR_PID_FILE ?= run/processor.pid
# How long `make LOCAL=1 stop` waits for the processor to drain and exit.
STOP_WAIT_SECONDS ?= 60
# LocalStack's port on this machine's loopback (docker-compose.yml publishes it there): another
# one when 4566 is taken, by `npm start` for one.
export LOCALSTACK_PORT ?= 4566

# Terraform and the AWS CLI run in containers as you, so what they write into the checkout
# (.terraform/, state, the agent's response) is yours, not root's.
export HOST_UID ?= $(shell id -u)
export HOST_GID ?= $(shell id -g)

ifeq ($(LOCAL),)
AWS := $(COMPOSE) run --rm -T aws-cli
# The queue tools (npm run queues/dlq/redrive) run here, against LocalStack's published port.
QUEUE_TOOLS_ENV := AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$(LOCALSTACK_PORT) AWS_ENDPOINT_URL= TRAFFIC_QUEUE_URL= TRAFFIC_DLQ_URL=
else
# Empty, so the tools and the processor find the embedded endpoint on EMBEDDED_SQS_PORT themselves.
LOCAL_ENV := AWS_ENDPOINT_URL_SQS= AWS_ENDPOINT_URL= TRAFFIC_QUEUE_URL= TRAFFIC_DLQ_URL=
QUEUE_TOOLS_ENV := $(LOCAL_ENV)
endif

NODE_MODULES := node_modules/.package-lock.json

# Each recipe's line: `## what it does with Docker`, and in the LOCAL=1 half `##L what it does there`;
# a recipe with no `##L` line does the same either way.
help: ## List the recipes: what each does with Docker, and with LOCAL=1
	@echo "make [LOCAL=1] <recipe>   (LOCAL=1: no Docker, against the embedded default of npm start on EMBEDDED_SQS_PORT)"
	@awk '/^[a-z][a-z0-9-]*:.*## / { name = $$0; sub(/:.*/, "", name); text = $$0; sub(/^[^#]*## /, "", text); if (!(name in dflt)) order[++n] = name; dflt[name] = text } \
	  /^[a-z][a-z0-9-]*:.*##L / { name = $$0; sub(/:.*/, "", name); text = $$0; sub(/^[^#]*##L /, "", text); loc[name] = text } \
	  END { for (i = 1; i <= n; i++) { name = order[i]; printf "  %-28s %s\n", name, dflt[name]; \
	    printf "  %-28s LOCAL=1: %s\n", "", (name in loc) ? loc[name] : "the same" } }' $(MAKEFILE_LIST)

# npm ci when node_modules is missing (a fresh clone). Only then: a recipe never replaces the
# node_modules a running test or processor uses. After a pull that changes the lock file,
# run `make install`.
$(NODE_MODULES):
	npm ci --no-audit --no-fund

install: ## Install node_modules exactly as package-lock.json says (npm ci)
	npm ci --no-audit --no-fund

build-agent: $(NODE_MODULES) ## Bundle the agent into dist/traffic-agent.zip
	npm run -s build:agent

ifeq ($(LOCAL),)

# One line, and nothing run, when Docker cannot serve the recipes: Compose v2 missing or too old
# (instead of docker's "unknown shorthand flag: 'd'"), or the engine not running (instead of each
# container's "Cannot connect to the Docker daemon"). Every Docker recipe depends on it.
docker-ready:
	@version=$$($(COMPOSE) version --short 2>/dev/null) || { \
	  echo "make: Docker Compose v2 ('$(COMPOSE)', $(MIN_COMPOSE) or later) is not available: install it, or run without Docker: make LOCAL=1 $(or $(MAKECMDGOALS),all)" >&2; exit 1; }; \
	version=$${version#v}; \
	if [ "$$(printf '%s\n' '$(MIN_COMPOSE)' "$$version" | sort -t. -k1,1n -k2,2n -k3,3n | head -n 1)" != '$(MIN_COMPOSE)' ]; then \
	  echo "make: Docker Compose $$version is older than $(MIN_COMPOSE): upgrade it, or run without Docker: make LOCAL=1 $(or $(MAKECMDGOALS),all)" >&2; exit 1; fi; \
	if ! info=$$($(DOCKER) info --format '{{.ServerVersion}}' 2>&1); then \
	  reason=$$(printf '%s\n' "$$info" | grep -v '^[[:space:]]*$$' | head -n 1); \
	  echo "make: the Docker engine is not running ($(DOCKER) info: $${reason:-failed}): start it, or run without Docker: make LOCAL=1 $(or $(MAKECMDGOALS),all)" >&2; exit 1; fi

all: docker-ready ## Restart the environment: stop, forget the old state, start LocalStack, apply Terraform (dev)
	@$(MAKE) --no-print-directory reset
	@$(MAKE) --no-print-directory up
	@$(MAKE) --no-print-directory apply

reset: docker-ready ## Stop every container and forget LocalStack's and Terraform's state
	$(COMPOSE) $(PROFILES) down --volumes --remove-orphans
	rm -f $(TF_DIR)/terraform.tfstate $(TF_DIR)/terraform.tfstate.backup

up: docker-ready ## Start LocalStack (127.0.0.1:LOCALSTACK_PORT, 4566 by default)
	$(COMPOSE) up -d --wait localstack

apply: docker-ready build-agent ## Apply terraform/environments/dev to LocalStack, then print the agent's URL
	$(TF) init -input=false
	$(TF) apply -input=false -auto-approve
	@$(MAKE) --no-print-directory agent-url

deploy-traffic-agent-lambda: docker-ready build-agent ## Build the agent zip, (re)deploy the Lambda and its URL, print the URL and a curl line
	$(TF) init -input=false
	$(TF) apply -input=false -auto-approve -target=module.traffic.module.traffic_agent
	@$(MAKE) --no-print-directory agent-url

# LocalStack 4.14 names a function URL http://<id>.lambda-url.<region>.localhost.localstack.cloud:4566/
# and routes it by the Host header. That name resolves to 127.0.0.1 only through public DNS (not
# offline, nor behind a resolver that drops private answers), and 4566 is the port inside the
# container: so the curl line keeps the URL (and with it the Host header) and adds
# --connect-to, which sends it to LocalStack's published port on 127.0.0.1 whatever DNS says.
# The origin is the first of the deployed agent's AGENT_ALLOWED_ORIGINS: the agent refuses others.
agent-url: docker-ready ## Print the agent's HTTP entry URL (terraform output agent_url) and a curl line to try it
	@url=$$($(COMPOSE) run --rm -T terraform output -raw agent_url) && [ -n "$$url" ] || { \
	  echo "make: no agent_url output in $(TF_DIR): deploy first (make, or make deploy-traffic-agent-lambda)" >&2; exit 1; }; \
	origins=$$($(AWS) lambda get-function-configuration --function-name $(AGENT_FUNCTION) \
	  --query Environment.Variables.AGENT_ALLOWED_ORIGINS --output text 2>/dev/null) || origins=; \
	origin=$${origins%%,*}; \
	case "$$origin" in ''|None) origin='<an origin in AGENT_ALLOWED_ORIGINS>';; esac; \
	case "$$url" in *.localstack.cloud:*|*.localhost:*) route="--connect-to ::127.0.0.1:$(LOCALSTACK_PORT) ";; *) route=;; esac; \
	visit='$(TRY_VISIT)'; \
	echo "agent HTTP entry: $$url"; \
	printf "try it: curl %s-X POST -H 'Origin: %s' -H 'content-type: text/plain' --data '%s' %s\n" "$$route" "$$origin" "$$visit" "$$url"

# `aws lambda invoke` exits 0 even when the function failed: its FunctionError (printed alone by
# --query) and the response's statusCode decide. $(1): the event.
define invoke_agent
	@mkdir -p $(dir $(AGENT_RESPONSE))
	@rm -f $(AGENT_RESPONSE)
	@error=$$($(AWS) lambda invoke --function-name $(AGENT_FUNCTION) --cli-binary-format raw-in-base64-out \
	  --payload '$(1)' --query FunctionError --output text $(AGENT_RESPONSE)) || { \
	  echo "make: aws lambda invoke $(AGENT_FUNCTION) failed (exit $$?)" >&2; exit 1; }; \
	response=$$(cat $(AGENT_RESPONSE) 2>/dev/null); \
	echo "$$response"; \
	if [ -n "$$error" ] && [ "$$error" != None ]; then \
	  echo "make: $(AGENT_FUNCTION) failed ($$error): $$response" >&2; exit 1; fi; \
	case "$$response" in *'"statusCode":2'[0-9][0-9]*) ;; \
	  *) echo "make: $(AGENT_FUNCTION) did not accept the visit: $$response" >&2; exit 1;; esac
endef

create-traffic-type-in: docker-ready ## Invoke the agent Lambda with a type-in visit
	$(call invoke_agent,$(TYPE_IN_EVENT))

create-traffic-direct: docker-ready ## Invoke the agent Lambda with a direct visit (alias of type-in)
	$(call invoke_agent,$(DIRECT_EVENT))

create-traffic-referrer: docker-ready ## Invoke the agent Lambda with a referrer visit
	$(call invoke_agent,$(REFERRER_EVENT))

# The processor image is built from the Dockerfile; --exit-code-from makes this recipe fail
# when the processor exits non-zero (LocalStack, a dependency, keeps running).
start-traffic-processor: docker-ready ## Build the processor image and run it against LocalStack (foreground)
	$(COMPOSE) --profile processor up --build --exit-code-from processor processor

sqs: docker-ready ## Start LocalStack alone, no processor (its queues come with make apply)
	$(COMPOSE) up -d --wait localstack
	@echo "SQS: http://127.0.0.1:$(LOCALSTACK_PORT) (LocalStack; make queues lists the queues)"

stop: docker-ready ## Stop and remove every container (LocalStack's data is kept; `make` forgets it)
	$(COMPOSE) $(PROFILES) down --remove-orphans

logs: docker-ready ## Follow LocalStack and processor logs
	$(COMPOSE) --profile processor logs -f

queues: docker-ready $(NODE_MODULES) ## List the queues with their visible and in-flight messages (LocalStack)
	$(QUEUE_TOOLS_ENV) npm run -s queues

dlq: docker-ready $(NODE_MODULES) ## Show up to 10 dead-lettered messages with their reasons; they stay in the DLQ, visible at once
	$(QUEUE_TOOLS_ENV) npm run -s dlq

redrive: docker-ready $(NODE_MODULES) ## Move dead-lettered messages back to the PIPELINE, waiting for any a reader holds (LocalStack)
	$(QUEUE_TOOLS_ENV) npm run -s redrive

else

all: $(NODE_MODULES) ##L Install node_modules if missing; nothing to provision (start-traffic-processor creates the queues)
	@echo "LOCAL=1: nothing to provision: 'make LOCAL=1 start-traffic-processor' starts the embedded SQS endpoint and creates the queues."

reset: ##L Nothing to forget: the embedded queues live in the processor's memory and go with it
	@echo "LOCAL=1: nothing to reset; the embedded queues go when the processor stops."

up: ##L Nothing to start: start-traffic-processor (or sqs) serves the queues
	@echo "LOCAL=1: nothing to start; 'make LOCAL=1 start-traffic-processor' (or 'make LOCAL=1 sqs') serves the queues."

apply: ##L Nothing to apply: start-traffic-processor creates the queues
	@echo "LOCAL=1: nothing to apply; 'make LOCAL=1 start-traffic-processor' creates the queues."

deploy-traffic-agent-lambda: build-agent ##L Build the agent zip only: create-traffic-* run the same handler here
	@echo "LOCAL=1: no Lambda runtime here; create-traffic-* run the same handler with npm run agent:invoke."

agent-url: ##L Say where the agent's HTTP entry is: npm start prints its URL
	@echo "LOCAL=1: the agent's HTTP entry is served by npm start (make LOCAL=1 start-traffic-processor), which prints its URL and a curl line when it starts."

# agent:invoke exits 1 when the handler throws or answers other than 2xx.
create-traffic-type-in: $(NODE_MODULES) ##L Run the agent's handler here with a type-in visit, onto the embedded PIPELINE
	$(LOCAL_ENV) npm run -s agent:invoke -- '$(TYPE_IN_EVENT)'

create-traffic-direct: $(NODE_MODULES) ##L Run the agent's handler here with a direct visit, onto the embedded PIPELINE
	$(LOCAL_ENV) npm run -s agent:invoke -- '$(DIRECT_EVENT)'

create-traffic-referrer: $(NODE_MODULES) ##L Run the agent's handler here with a referrer visit, onto the embedded PIPELINE
	$(LOCAL_ENV) npm run -s agent:invoke -- '$(REFERRER_EVENT)'

# The shell writes its own pid, then exec makes it the processor: the pid file names exactly
# this processor, and the processor gets SIGINT/SIGTERM itself and drains. Node flags: the
# ones npm start uses (package.json config.nodeFlags).
start-traffic-processor: $(NODE_MODULES) ##L Run the processor and its embedded SQS endpoint here (npm start, foreground; pid in run/processor.pid)
	@if [ -f $(PROCESSOR_PID_FILE) ] && pid=$$(cat $(PROCESSOR_PID_FILE)) && kill -0 "$$pid" 2>/dev/null \
	  && ps -p "$$pid" -o args= | grep -q 'src/processor/main.ts'; then \
	  echo "make: the processor started by make is already running (pid $$pid): make LOCAL=1 stop" >&2; exit 1; fi
	@mkdir -p $(dir $(PROCESSOR_PID_FILE))
	echo $$$$ > $(PROCESSOR_PID_FILE); $(LOCAL_ENV) exec node_modules/.bin/node $$(node_modules/.bin/node -p 'require("./package.json").config.nodeFlags') src/processor/main.ts

sqs: $(NODE_MODULES) ##L Run the embedded SQS endpoint alone, no processor (npm run sqs, foreground; Ctrl-C stops it)
	npm run -s sqs

# SIGTERM to the pid start-traffic-processor recorded (never a pattern), then wait for the drain.
stop: ##L Stop the processor start-traffic-processor started (SIGTERM to its pid; waits for the drain)
	@if [ ! -f $(PROCESSOR_PID_FILE) ]; then echo "LOCAL=1: no processor started by make ($(PROCESSOR_PID_FILE) is absent)"; exit 0; fi; \
	pid=$$(cat $(PROCESSOR_PID_FILE)); \
	if ! kill -0 "$$pid" 2>/dev/null || ! ps -p "$$pid" -o args= | grep -q 'src/processor/main.ts'; then \
	  echo "LOCAL=1: the processor (pid $$pid) has already exited"; rm -f $(PROCESSOR_PID_FILE); exit 0; fi; \
	kill -TERM "$$pid" || { echo "make: could not signal the processor (pid $$pid)" >&2; exit 1; }; \
	echo "LOCAL=1: stopping the processor (pid $$pid): it drains what is in flight"; \
	waited=0; while kill -0 "$$pid" 2>/dev/null; do \
	  if [ $$waited -ge $(STOP_WAIT_SECONDS) ]; then echo "make: the processor (pid $$pid) is still running after $(STOP_WAIT_SECONDS) s" >&2; exit 1; fi; \
	  sleep 1; waited=$$((waited + 1)); done; \
	rm -f $(PROCESSOR_PID_FILE); echo "LOCAL=1: the processor (pid $$pid) stopped"

logs: ##L Nothing to follow: the processor logs to the terminal it runs in
	@echo "LOCAL=1: the processor logs to the terminal it runs in."

queues: $(NODE_MODULES) ##L The same on the embedded endpoint (npm run queues; no AWS CLI needed)
	$(QUEUE_TOOLS_ENV) npm run -s queues

dlq: $(NODE_MODULES) ##L The same on the embedded endpoint (npm run dlq; no AWS CLI needed)
	$(QUEUE_TOOLS_ENV) npm run -s dlq

redrive: $(NODE_MODULES) ##L The same on the embedded endpoint (npm run redrive)
	$(QUEUE_TOOLS_ENV) npm run -s redrive

endif
