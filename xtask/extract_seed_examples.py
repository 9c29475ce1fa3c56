"""Extracts request/response examples from the API documents (../shared/seeds) into
crates/http/src/openapi/seed_examples.json, keyed "METHOD /path/template" with the seed's number.
The seeds live outside the repository, so the result is committed; rerun when a seed changes:
python3 xtask/extract_seed_examples.py crates/http/src/openapi/seed_examples.json
(reads the operations from docs/api/openapi.json and the seeds from ../shared/seeds)."""
import os
import re, json, sys
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(os.path.dirname(ROOT), "shared", "seeds")
doc=json.load(open(os.path.join(ROOT, 'docs/api/openapi.json')))
templates=[(m.upper(),p) for p,item in doc['paths'].items() for m in item]
def match(method, path):
    path=path.split('?')[0].rstrip('/') or '/'
    best=None
    for m,t in templates:
        if m!=method: continue
        rx='^'+re.sub(r'\\\{[^}]+\\\}', '[^/]+', re.escape(t.rstrip('/')))+'$'
        if re.match(rx, path):
            lit=len(re.sub(r'\{[^}]+\}','',t))
            if best is None or lit>best[0]: best=(lit,t)
    return best[1] if best else None
def first_json(text, start):
    i=text.find('{', start)
    if i<0: return None, start
    depth=0; instr=False; esc=False
    for j in range(i, len(text)):
        ch=text[j]
        if instr:
            if esc: esc=False
            elif ch=='\\': esc=True
            elif ch=='"': instr=False
        elif ch=='"': instr=True
        elif ch=='{': depth+=1
        elif ch=='}':
            depth-=1
            if depth==0:
                try: return json.loads(text[i:j+1]), j+1
                except Exception: return None, j+1
    return None, len(text)
out={}
def put(key, kind, value, seed):
    e=out.setdefault(key, {"seed": seed})
    e.setdefault(kind, value)
# seed 03 (markdown)
text=open(os.path.join(SEEDS, '03-user-and-org-settings-api.md')).read()
cur=None
for lang, body in re.findall(r'```(\w+)[^\n]*\n(.*?)```', text, re.S):
    if lang=='http':
        m=re.match(r'(GET|POST|PUT|PATCH|DELETE)\s+(\S+)', body.strip())
        cur=None
        if m:
            t=match(m.group(1), m.group(2))
            cur=f"{m.group(1)} {t}" if t else None
    elif lang=='json' and cur:
        try: v=json.loads(body)
        except Exception: continue
        kind='response' if ('data' in v or cur.startswith(('GET','DELETE')) or 'request' in out.get(cur,{})) else 'request'
        put(cur, kind, v, "03")
# seeds 01, 02 (curl)
for seed, name in (("01","01-account-settings-api.txt"),("02","02-team-members-api.txt")):
    text=open(os.path.join(SEEDS, name)).read()
    for m in re.finditer(r'curl (?:-X|--request) (GET|POST|PUT|PATCH|DELETE)\s*\\?\s*(?:--url )?"?(https?://[^\s"\\]+)', text):
        method=m.group(1); path=re.sub(r'https?://[^/]+','',m.group(2))
        t=match(method, path)
        if not t: continue
        key=f"{method} {t}"
        end=text.find('\n\n', m.end())
        cmd=text[m.end(): text.find('\n\n', m.end()) if end>0 else len(text)]
        d=re.search(r"(?:-d|--data) '(\{.*?\})'", text[m.end():m.end()+3000], re.S)
        pos=m.end()
        if d and method in ('POST','PUT','PATCH'):
            try:
                put(key,'request',json.loads(d.group(1)),seed); pos=m.end()+d.end()
            except Exception: pass
        v,_=first_json(text,pos)
        if v is not None and 'response' not in out.get(key,{}):
            put(key,'response',v,seed)
# seed 05
t5=[(m.upper(),p) for m,p in templates if p.startswith('/tenants')]
text=open(os.path.join(SEEDS, '05-tenant-settings-api.txt')).read()
g=text.index('GET /tenants/:id/settings'); v,_=first_json(text,g); put('GET /tenants/{id}/settings','response',v,"05")
p=text.index('PATCH /tenants/:id/settings'); req,e=first_json(text,p); res,_=first_json(text,e)
put('PATCH /tenants/{id}/settings','request',req,"05"); put('PATCH /tenants/{id}/settings','response',res,"05")
json.dump(out, open(sys.argv[1],'w'), indent=1, sort_keys=True)
print(f'{len(out)} operations with seed examples')
