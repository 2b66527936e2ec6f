<?php
// phpredis (Debian's php-redis), default usage: commands, multi() (a
// MULTI/EXEC transaction), pipeline() and a SCAN iteration, over TCP and a
// unix socket.

$the = getenv('EXPECT_THE');
$you = getenv('EXPECT_YOU');
$dbsize = (int) getenv('EXPECT_DBSIZE');

function check(string $what, $got, $want): void {
    if ($got !== $want) {
        fwrite(STDERR, "phpredis: $what: got " . var_export($got, true) . ", want " . var_export($want, true) . "\n");
        exit(1);
    }
}

$endpoints = [
    'tcp' => [getenv('FREQD_HOST'), (int) getenv('FREQD_PORT')],
    'unix' => [getenv('FREQD_SOCKET'), 0],
];
foreach ($endpoints as $name => [$host, $port]) {
    $r = new Redis();
    $port ? $r->connect($host, $port, 5.0) : $r->connect($host);
    check('PING', $r->ping(), true);
    check('GET the', $r->get('the'), $the);
    check('GET absent', $r->get('nosuchwordzz'), false);
    check('MGET', $r->mget(['you', 'nosuchwordzz']), [$you, false]);
    check('EXISTS', $r->exists('the', 'nosuchwordzz'), 1);
    check('DBSIZE', $r->dbSize(), $dbsize);
    check('TYPE', $r->type('the'), Redis::REDIS_STRING);
    check('STRLEN', $r->strlen('the'), strlen($the));
    check('FREQ', $r->rawCommand('FREQ', 'the', 'nosuchwordzz'), [(int) $the, 0]);
    check('RANK', $r->rawCommand('RANK', 'you'), 1);
    // A UTF-8 argument, and the contraction answered from its part.
    $don = (int) getenv('EXPECT_DON');
    check("FREQ don’t DON'T", $r->rawCommand('FREQ', 'don’t', "DON'T"), [$don, $don]);
    // RESP2 sends doubles as bulk strings.
    $zipf = array_map('floatval', $r->rawCommand('ZIPF', 'the', 'nosuchwordzz'));
    check('ZIPF', [$zipf[0] > 7, round($zipf[1], 2)], [true, 1.30]);
    check('FPM absent', (float) $r->rawCommand('FPM', 'nosuchwordzz')[0], 0.0);
    $tag = $r->rawCommand('TAG', 'LIMIT', '2', 'the xylophone and the zymurgy');
    check('TAG pairs', count($tag), 4);
    check('INFO role', $r->info('replication')['role'], 'master');

    $tx = $r->multi()->get('the')->get('nosuchwordzz')->get('you')->exec();
    check('multi()', $tx, [$the, false, $you]);
    $pipe = $r->pipeline()->get('the')->get('you')->dbSize()->exec();
    check('pipeline()', $pipe, [$the, $you, $dbsize]);

    $r->setOption(Redis::OPT_SCAN, Redis::SCAN_RETRY);
    $it = null;
    $scanned = 0;
    while (($keys = $r->scan($it, '*', 5000)) !== false) {
        $scanned += count($keys);
    }
    check('SCAN iteration', $scanned, $dbsize);
    $r->close();
    echo 'phpredis ' . phpversion('redis') . " $name: commands, multi(), pipeline(), scan: ok\n";
}
