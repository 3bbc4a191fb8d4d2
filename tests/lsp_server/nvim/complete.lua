-- Drive `tether serve` from Neovim 0.11's built-in LSP client and write what came back as JSON.
-- Run: nvim --headless -u NONE -c "luafile tests/nvim/complete.lua"
-- Environment: TETHER_NVIM_ROOT (workspace), TETHER_NVIM_OUT (result file),
-- TETHER_NVIM_CMD (the server command, a JSON list).

local root = os.getenv("TETHER_NVIM_ROOT") or "."
local out = os.getenv("TETHER_NVIM_OUT") or "tether-nvim.json"
local cmd_json = os.getenv("TETHER_NVIM_CMD") or '["tether", "serve"]'
local TIMEOUT = 30000
local result = { errors = {} }

local function request(client, method, params, bufnr)
  local response, err = client:request_sync(method, params, TIMEOUT, bufnr)
  if err then
    table.insert(result.errors, method .. ": " .. tostring(err))
    return nil
  end
  if response and response.err then
    table.insert(result.errors, method .. ": " .. vim.inspect(response.err))
    return nil
  end
  return response and response.result
end

local function run()
  local cmd = vim.json.decode(cmd_json)
  vim.cmd.edit(vim.fn.fnameescape(root .. "/scripts/run.py"))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = "python"
  local client_id = vim.lsp.start({
    name = "tether",
    cmd = cmd,
    root_dir = root,
    init_options = { tether = { debounceMs = 0, embeddings = false } },
  }, { bufnr = bufnr })
  assert(client_id, "vim.lsp.start failed")
  local client = assert(vim.lsp.get_client_by_id(client_id))
  assert(vim.wait(TIMEOUT, function() return client.initialized end, 50), "no initialize")
  result.inline_provider = client.server_capabilities.inlineCompletionProvider ~= nil
  result.offset_encoding = client.offset_encoding

  -- Wait for the index.
  assert(vim.wait(TIMEOUT, function()
    local status = request(client, "workspace/executeCommand", { command = "tether.status" })
    return status ~= nil and status.index.files > 0 and not status.index.indexing
  end, 100), "indexing never finished")

  -- Type a member access (sent to the server as an incremental didChange).
  vim.api.nvim_buf_set_lines(bufnr, 6, 6, false, { "    cart." })
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    position = { line = 6, character = 9 },
  }

  local completion = request(client, "textDocument/completion", params, bufnr) or {}
  result.completion = {}
  for _, item in ipairs(completion.items or completion) do
    table.insert(result.completion, {
      label = item.label,
      kind = item.kind,
      deprecated = item.tags ~= nil and vim.tbl_contains(item.tags, 1) or item.deprecated == true,
    })
  end

  params.context = { triggerKind = 1 }
  local inline = request(client, "textDocument/inlineCompletion", params, bufnr)
  result.inline = {}
  for _, item in ipairs(inline and (inline.items or inline) or {}) do
    local text = type(item.insertText) == "table" and item.insertText.value or item.insertText
    table.insert(result.inline, { text = text, range = item.range })
  end

  local hover = request(client, "textDocument/hover", {
    textDocument = params.textDocument, position = { line = 10, character = 14 },  -- s.checkout
  }, bufnr)
  result.hover = hover and hover.contents and hover.contents.value or vim.NIL

  client:stop()
  result.stopped = vim.wait(10000, function() return client:is_stopped() end, 50)
end

local ok, err = pcall(run)
if not ok then
  table.insert(result.errors, tostring(err))
end
local file = assert(io.open(out, "w"))
file:write(vim.json.encode(result))
file:close()
vim.cmd("qall!")
